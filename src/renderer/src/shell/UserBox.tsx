// Who is signed in, and «Выйти».
import { Button } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { User } from '../../../shared/model'

export interface UserBoxProps {
  user: User
  leaving: boolean
  onLogout: () => void
}

export function UserBox({ user, leaving, onLogout }: UserBoxProps): ReactNode {
  const { t } = useTranslation()
  return (
    <div className="user-box" data-testid="user-box">
      <div className="user-box__text">
        <div className="user-box__name" data-testid="user-name">
          {user.fullName}
        </div>
        <div className="user-box__job">
          {user.position} · {user.organisation}
        </div>
      </div>
      <Button className="user-box__logout" loading={leaving} onClick={onLogout} data-testid="logout">
        {t('shell.logout')}
      </Button>
    </div>
  )
}
